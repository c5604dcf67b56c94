"""Style families and the style map of a mined collection (``liandan cluster``, ``liandan map``).

    features.py    the feature space: look / params / code columns, winsorised and standardised
    clusterer.py   StyleClusterer: HDBSCAN with parameters chosen by stability; fit / predict
    describe.py    family names from distinguishing features, medoids, bridges, the tree, quality
    style_map.py   StyleMap (UMAP or t-SNE; placing new presets) and the gaps of a map
    saved.py       DATASET/style/ on disk, and the API other tools read: load_families, load_map
    build.py       what the commands do: cluster_dataset, map_dataset, assign_files, similar_to
    pictures.py    the family sheet, the style tree and the atlas (PNG)
    figures.py     the interactive map (plotly) and the hover thumbnails' sprite, for the Map page
    overlay.py     a run's individuals placed on a map
"""
