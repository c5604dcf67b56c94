"""The preset generator: a PCA + Gaussian mixture model of good presets' parameters, with real
presets as donors of equations and switches (model.py, corpus_model.py), aimed at the corpus, a
style family or a gap of the style map (aim.py), every new preset rendered and diagnosed
(generate.py). ``liandan generate``."""
