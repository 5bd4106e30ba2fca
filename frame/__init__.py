"""The frame around every page: the script Streamlit runs for each session (frame/main.py, served by
app.py), the navigation (every page of pages/, in order), the sidebar, the link keys every page shares.

The frame imports the pages; no page imports the frame.
"""
