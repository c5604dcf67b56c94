"""Corpus mining: a feature dataset of every preset in a collection, and what it says.

People who use liandan own folders of thousands of ``.milk`` files. This package answers what is
in them: one row per file (identity, every parameter, code and shader features, and the image
statistics the fitness computes from a fixed render), and an analysis of that table (which values
go with well-rated presets, which ranges are safe, where the fitness bands should sit).

    dataset.py         the dataset: folder layout, column conventions, load_dataset()
    static.py          features read from the file alone (parameters, waves, shapes, shaders)
    code_features.py   features of the EEL code (sizes, variables written, functions, q/t, loops)
    rendered.py        the fixed render (mining_settings), its cache key and the worker job
    mine.py            mine(): find, hash, read, render what is missing, assemble the Parquet file
    labels.py          quality labels: fRating, a ratings file, votes and scores of runs
    analysis.py        distributions, correlations, golden combinations, outliers, the model
    figures.py         plotly figures the report and the Corpus page share
    report.py          the self-contained HTML report
    safe_ranges.py     safe parameter ranges as JSON (read by evo.operators)
    bands.py           fitness bands fitted from a dataset (written to evo/fitness/bands.json)

Kept import-light: ``evo.operators`` reads safe ranges through ``evo.mining.safe_ranges`` and must
not pull pandas in with it.
"""
