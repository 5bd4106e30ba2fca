"""Benchmarks of the VAE latent-space explorer against its peers (issue #4).

``python -m benchmarks [--quick] [--only NAME,...] [--json FILE] [--docs DIR | --no-docs]``

One module per measurement, each with ``NAME`` and ``run(settings) -> list[Record]``:

- :mod:`.inverse_map`: empty-spot decode, ``LatentMap.to_latent`` vs umap-learn ``inverse_transform``
- :mod:`.forward_map`: placing codes, ``LatentMap.to_map`` vs umap-learn ``transform``
- :mod:`.slider_roundtrip`: key press to new image in Chromium, our Sliders page vs a naive app
  (and vs itself with ``st.fragment`` off)
- :mod:`.first_map`: ``streamlit run`` to map on screen, shipped projection vs cold caches
- :mod:`.projection_cost`: UMAP (cold, warm), PCA, t-SNE: seconds and trustworthiness
- :mod:`.train_throughput`: images/s of the shipped architectures vs pytorch/examples' VAE
- :mod:`.quality`: each checkpoint's metrics next to its PCA and raw-pixel baselines
- :mod:`.server_memory`: peak RSS of the app server with 1 and 10 browser sessions
- :mod:`.train_ddp`: training images/s with 1 and 2 processes (torchrun, DDP, gloo)
- :mod:`.map_scale`: maps of 10,000, 70,000 and a million codes: build time, frame time, memory
- :mod:`.map_tools`: one image's k = 20 nearest neighbours on 10,000 and 70,000 codes vs scikit-learn
- :mod:`.map_tools_browser`: search -> highlight, thumbnails while zoomed and a linked chart's brush -> the map, in
  Chromium (run by map_tools)

Shared pieces: :mod:`.records` (the record, statistics, tables), :mod:`.settings`,
:mod:`.umap_fixture` (the fitted UMAP both map benchmarks use), :mod:`.app_driver`
(``streamlit run`` + Chromium), :mod:`.report` (docs/benchmarks.md and its plots).
The app is driven through a subprocess; nothing here imports Streamlit.
"""
