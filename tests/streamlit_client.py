"""A browser session without the browser: Streamlit 1.67's own websocket protocol, spoken from Python.

What it speaks (Streamlit's frontend does the same; checked against the frames Chromium exchanged with
this app, captured with Playwright's ``page.on("websocket")`` while a user opened the Map on
``?ckpt=digits``, clicked a point, pressed "Steer this point" and moved a slider):

- **Connect**: GET ``/_stcore/health`` hands out the ``_streamlit_xsrf`` cookie; then
  ``/_stcore/stream`` with the subprotocols ``["streamlit", <xsrf token>]`` (a third entry would
  resume a session), the cookie and a same-origin ``Origin`` header.
- **Send** ``BackMsg.rerun_script`` with a ``ClientState``: the query string the page shows, the
  state of every widget on the page, the page's script hash (empty on the first run: the server
  picks the page), the fragment id when the widget that changed lives in an ``st.fragment``, the
  hashes of the messages it has cached and the same ``context_info`` Chromium sends.
- **Keep widget states as the browser does**: a widget that arrives takes the server's value when
  the server sets one (``set_value``), else keeps what it had, else its default; a button's
  trigger goes out once; after a full run, widgets no longer on the page are forgotten. Values go
  out as the browser sends them: a select box's or radio's option label, a slider's list of
  doubles, a Plotly chart's selection as JSON.
- **Read** ``ForwardMsg``: ``new_session`` (a run starts), ``navigation`` (the pages, and the one
  running: its hash goes out with the next rerun, as the browser sends it),
  ``delta`` (elements by their delta path; ``ref_hash`` refers to a message cached earlier, which
  the client keeps like the browser's cache), ``page_info_changed`` (the new query string) and
  ``script_finished``.

Widget types handled: select box, radio, checkbox/toggle, slider, number input, text input, file
uploader (empty), button group, button and Plotly chart (the ones on the Map and Sliders pages); other
widgets send nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

XSRF_COOKIE = "_streamlit_xsrf"
DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
# Chromium's context_info in the captured frames (headless, en-US, UTC)
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "is_embedded": False, "color_scheme": "light"}


@dataclass
class Received:
    """What one rerun brought back: each message with the time it arrived (perf_counter seconds)."""

    sent_at: float
    messages: list[tuple[float, ForwardMsg]] = field(default_factory=list)
    status: int | None = None  # ForwardMsg.ScriptFinishedStatus of the run that answered


def _default_state(kind: str, w) -> WidgetState | None:
    """The state the browser takes for a widget that arrives without one, or whose value the server sets
    (``set_value``); None: it sends nothing for this kind."""
    s = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            s.string_value = w.raw_value
        elif w.HasField("default") and 0 <= w.default < len(w.options):
            s.string_value = w.options[w.default]
    elif kind == "checkbox":
        s.bool_value = w.value if w.set_value else w.default
    elif kind == "slider":
        s.double_array_value.data.extend(w.value if w.set_value else w.default)
    elif kind == "number_input":
        if w.set_value and w.HasField("value"):
            s.double_value = w.value
        elif w.HasField("default"):
            s.double_value = w.default
    elif kind == "text_input":
        if w.set_value and w.HasField("value"):
            s.string_value = w.value
        elif w.HasField("default"):
            s.string_value = w.default
    elif kind == "file_uploader":  # no file chosen: an empty uploader state
        s.file_uploader_state_value.SetInParent()
    elif kind == "button_group":
        s.string_array_value.data.extend(
            w.raw_values if w.set_value else [w.options[i].content for i in w.default])
    else:  # buttons (triggers) and charts (no selection yet)
        return None
    return s


class Session:
    """One user's session: a websocket to ``url`` (``http://host:port``) speaking Streamlit's protocol."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.query_string = ""
        self.page_hash = ""  # the script hash of the page on screen ("" before the first run)
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.elements: dict[tuple[int, ...], object] = {}  # delta path -> Element on screen
        self.fragments: dict[tuple[int, ...], str] = {}  # delta path -> id of the fragment rooted there
        self.widgets: dict[str, WidgetState] = {}  # widget id -> the state the browser would send
        self.cache: dict[str, ForwardMsg] = {}  # message hash -> message (the browser's message cache)
        self.problems: list[str] = []  # the text of every exception or error element ever received
        self.sent: list[bytes] = []  # every BackMsg sent, serialized (to hold against a browser's frames)
        self._ws = None
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None
        self._seen_this_run: set = set()
        self._widgets_this_run: set[str] = set()

    # -- the connection ---------------------------------------------------------------------------------
    async def connect(self) -> None:
        token = await asyncio.to_thread(self._xsrf_token)
        host = urlparse(self.url).netloc
        self._ws = await websockets.connect(
            f"ws://{host}/_stcore/stream", subprotocols=["streamlit", token],
            additional_headers={"Cookie": f"{XSRF_COOKIE}={token}", "Origin": self.url},
            max_size=None, open_timeout=240)
        self._reader = asyncio.create_task(self._read())

    def _xsrf_token(self) -> str:
        with urllib.request.urlopen(self.url + "/_stcore/health", timeout=60) as r:
            for cookie in r.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                if name.strip() == XSRF_COOKIE:
                    return rest.split(";", 1)[0]
        raise RuntimeError("the health endpoint handed out no XSRF cookie")

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                await self._inbox.put((time.perf_counter(), ForwardMsg.FromString(frame)))
        except websockets.ConnectionClosed:
            pass
        finally:
            await self._inbox.put((time.perf_counter(), None))

    # -- a rerun ------------------------------------------------------------------------------------------
    async def rerun(self, changed: list[WidgetState] = (), fragment_id: str = "", timeout: float = 240,
                    on_message=None) -> Received:
        """Send a rerun with every widget's state (``changed`` replacing or adding some), and read
        until the run it started has finished. ``on_message(t, msg)`` sees each message as it lands."""
        while not self._inbox.empty():  # anything that came after the last run (a rerun the server began)
            _t, late = self._inbox.get_nowait()
            if late is None:
                raise ConnectionError("the server closed the websocket")
            self._apply(self._resolve(late))
        triggers = []
        for s in changed:
            if s.WhichOneof("value") in ("trigger_value", "string_trigger_value", "json_trigger_value"):
                triggers.append(s)  # goes out once
            else:
                self.widgets[s.id] = s
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.widget_states.widgets.extend([*self.widgets.values(), *triggers])
        cs.cached_message_hashes.extend(self.cache)
        for k, v in CONTEXT.items():
            setattr(cs.context_info, k, v)
        path = next((p for p, h in self.pages.items() if h == self.page_hash and p), "")
        cs.context_info.url = f"{self.url}/{path}"  # as Chromium sends it: the page's address, no query
        self.sent.append(msg.SerializeToString())
        got = Received(time.perf_counter())
        await self._ws.send(self.sent[-1])
        await asyncio.wait_for(self._until_finished(got, on_message), timeout)
        return got

    async def _until_finished(self, got: Received, on_message) -> None:
        while True:
            t, msg = await self._inbox.get()
            if msg is None:
                raise ConnectionError("the server closed the websocket")
            msg = self._resolve(msg)
            got.messages.append((t, msg))
            self._apply(msg)
            if on_message is not None:
                on_message(t, msg)
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in DONE:
                got.status = msg.script_finished
                self._end_run(fragment=msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
                return

    def _resolve(self, msg: ForwardMsg) -> ForwardMsg:
        """A ``ref_hash`` message stands for a message cached earlier; cacheable ones are kept."""
        if msg.WhichOneof("type") == "ref_hash":
            full = ForwardMsg()
            full.CopyFrom(self.cache[msg.ref_hash])
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable:
            self.cache[msg.hash] = msg
        return msg

    def _apply(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            self._seen_this_run, self._widgets_this_run = set(), set()
        elif kind == "navigation":  # under st.navigation the page that runs is named here
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") in ("new_element", "add_block"):
            path = tuple(msg.metadata.delta_path)
            self._seen_this_run.add(path)
            if msg.delta.fragment_id:
                self.fragments[path] = msg.delta.fragment_id
            if msg.delta.WhichOneof("type") == "add_block":
                return
            el = msg.delta.new_element
            self.elements[path] = el
            self._note_problem(el)
            what = el.WhichOneof("type")
            w = getattr(el, what, None)
            wid = getattr(w, "id", "") if w is not None else ""
            if wid:
                self._widgets_this_run.add(wid)
                state = _default_state(what, w)
                if state is not None and (wid not in self.widgets or getattr(w, "set_value", False)):
                    self.widgets[wid] = state

    def _note_problem(self, el) -> None:
        what = el.WhichOneof("type")
        if what == "exception":
            self.problems.append(f"{el.exception.type}: {el.exception.message}\n{''.join(el.exception.stack_trace)}")
        elif what == "alert" and el.alert.format == type(el.alert).ERROR:
            self.problems.append(f"st.error: {el.alert.body}")

    def fragment_of(self, path: tuple[int, ...]) -> str:
        """The id of the fragment an element lives in ("" outside any): its nearest fragment root."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.fragments:
                return self.fragments[path[:n]]
        return ""

    def _end_run(self, fragment: bool) -> None:
        """After a full run the browser drops what the run did not send; after a fragment run, only
        what the run did not send inside the fragment's roots."""
        roots = [p for p in self._seen_this_run if p in self.fragments] if fragment else [()]
        for p in list(self.elements):
            if p not in self._seen_this_run and any(p[:len(r)] == r for r in roots):
                del self.elements[p]
        if not fragment:
            self.widgets = {k: v for k, v in self.widgets.items() if k in self._widgets_this_run}
        self._seen_this_run, self._widgets_this_run = set(), set()

    # -- what the page shows ------------------------------------------------------------------------------
    def find(self, kind: str, pred=lambda w: True) -> list[tuple[tuple[int, ...], object]]:
        """(delta path, proto) of every element of ``kind`` on the page, in page order."""
        return [(p, getattr(el, kind)) for p, el in sorted(self.elements.items())
                if el.WhichOneof("type") == kind and pred(getattr(el, kind))]

    def widget(self, kind: str, key: str):
        """The one widget of ``kind`` whose user key is ``key`` (widget ids end in ``-<key>``)."""
        found = self.find(kind, lambda w: w.id.endswith("-" + key))
        assert len(found) == 1, f"{len(found)} {kind} widgets with key {key!r} on the page"
        return found[0]


def trigger(widget_id: str) -> WidgetState:
    """A button press."""
    return WidgetState(id=widget_id, trigger_value=True)


def slider_value(widget_id: str, value: float) -> WidgetState:
    return WidgetState(id=widget_id, double_array_value={"data": [value]})


def chart_selection(widget_id: str, points: list[dict]) -> WidgetState:
    """A Plotly chart's selection as the browser sends it after a click (the JSON Chromium sent)."""
    body = {"selection": {"points": points, "point_indices": [p["point_index"] for p in points],
                          "box": [], "lasso": []}}
    return WidgetState(id=widget_id, string_value=json.dumps(body, separators=(",", ":")))
