"""The explorer's maths: everything the pages show about the latent space, without Streamlit.

    latent.py       encodings of a data set, paths, traversals, attribute vectors, the dimensions in use
    directions.py   directions (SeFa, class to class) and their names ("Sneaker → Sandal · wider, more ink")
    measures.py     what an image looks like in numbers: ink, brightness, width, height, symmetry, centre
    projection.py   2-D maps of the latent space (UMAP, PCA, t-SNE) and fast maps both ways
    knn.py          exact nearest neighbours of a fixed point set (_knn_kernels.py: its numba kernels)
    neighbours.py   one image's nearest neighbours (latent and pixel space, what they share), and search
    sets.py         explore sets (test, train, all, posterior samples), encoded and mapped, cached on disk
    clusters.py     automatic clusters on the map (scikit-learn's HDBSCAN) and what labels them
    density.py      the map's density on a grid (a binned Gaussian KDE), for contour lines
    selections.py   selections you keep: their statistics, exports, link text, the direction between two
    map_view.py     what the canvas map of a large explore set computes, on the server too
    thumb_view.py   which map points are drawn as their images once zoomed in (the page's twin)
    minimap.py      the Sliders page's small raster map with a moving marker
    figures.py      the Plotly figures the pages display
"""
