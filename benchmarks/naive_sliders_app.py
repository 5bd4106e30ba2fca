"""The peer of ``slider_roundtrip``: latent sliders written the way a straightforward Streamlit
app would be (run with ``streamlit run benchmarks/naive_sliders_app.py``).

It gets the same help the explorer has (the model, data, encoding and map come from
``st.cache_resource``; codes are placed with our fast ``LatentMap.to_map``, not umap-learn),
but, as most Streamlit apps do, every slider move reruns the whole script, and the map
where the code lands is a Plotly WebGL chart of all the encoded points, rebuilt each time.
The checkpoint is read from $VAE_BENCH_CHECKPOINT.
"""

import os

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae.checkpoint import load_checkpoint
from vae.data.images import upscale
from vae.explore.latent import decode
from vae.explore.projection import build_latent_map
from vae.explore.sets import default_projection, explore_set, projection


@st.cache_resource
def load(path: str):
    ck = load_checkpoint(path)
    data = ck.load_data("test")
    enc = explore_set(ck, data)
    cfg = default_projection(ck)
    coords, _ = projection(ck, "test", enc, cfg)
    return ck, enc, coords, build_latent_map(enc.mu, coords, cfg.method)


ck, enc, coords, latent_map = load(os.environ["VAE_BENCH_CHECKPOINT"])
st.title("Latent sliders")
left, right = st.columns([3, 2])
with left:
    z = np.array([st.slider(f"z{d}", -4.0, 4.0, 0.0, 0.05, key=f"z{d}") for d in range(ck.config.latent_dim)],
                 dtype=np.float32)
with right:
    st.image(upscale(decode(ck.model, z[None])[0], 280), caption="decoded z", output_format="PNG")
    xy = latent_map.to_map(z[None])[0]
    fig = go.Figure(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", hoverinfo="skip",
                                 marker=dict(size=3, color=enc.labels, colorscale="Turbo", opacity=0.4)))
    fig.add_trace(go.Scattergl(x=[xy[0]], y=[xy[1]], mode="markers",
                               marker=dict(size=16, symbol="star", color="red")))
    fig.update_layout(height=300, showlegend=False, margin=dict(l=0, r=0, t=0, b=0))
    st.plotly_chart(fig)
