"""A no-op marker for texts the app shows in the reader's language.

The library and its CLI stay English. Texts that the app's pages show as they are (class names,
figure titles, legends, hover texts) are wrapped in ``N_`` so that Babel extracts them into the
app's catalog (``make i18n``); the pages translate them where they show them (pages/_i18n.py).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """``message`` unchanged; marks it for extraction."""
    return message


class Text(str):
    """An English sentence made from a marked template and its values: an ordinary ``str`` to the
    library, its CLI and its tests; the app shows it translated by formatting the translated
    template with the same values (pages/_i18n.py ``tr``).

    >>> t = Text(N_("resized {w0}x{h0} -> {w}x{h}"), w0=280, h0=280, w=28, h=28)
    >>> t, t.template, t.values["w"]
    ('resized 280x280 -> 28x28', 'resized {w0}x{h0} -> {w}x{h}', 28)
    """

    template: str
    values: dict

    def __new__(cls, template: str, **values) -> Text:
        obj = super().__new__(cls, template.format(**values))
        obj.template, obj.values = template, values
        return obj

    def __getnewargs_ex__(self):  # pickled (st.cache_data) and copied as what it was made from
        return (self.template,), self.values
