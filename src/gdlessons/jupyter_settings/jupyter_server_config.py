"""gdlessons' Jupyter settings: the server.

`python -m gdlessons.lab` (which `make setup` runs) copies this file to <environment>/etc/jupyter/,
where every `jupyter lab` started from that environment reads it (`make lab` and
`python -m gdlessons.lab` start it that way). A student's own ~/.jupyter/jupyter_server_config.py
is read after it and wins.
"""

import os
import sys

import zmq
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_server.services.contents.manager import ContentsManager

c = get_config()  # noqa: F821 (Jupyter defines get_config when it loads this file)

# Kernels talk to the server over Unix domain sockets in Jupyter's private runtime folder instead
# of unencrypted TCP ports on 127.0.0.1: no other user of the machine can connect to them, and
# ipykernel no longer warns "Kernel is running over TCP without encryption" at every start.
# A socket's path may have at most 107 bytes on Linux, 103 on macOS; with a very long home folder,
# stay on TCP. Windows stays on TCP: jupyter_client's IPC transport is for Unix sockets.
SOCKET = os.path.join(jupyter_runtime_dir(), "kernel-01234567-89ab-cdef-0123-456789abcdef-ipc-99")
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107
if os.name == "posix" and zmq.has("ipc") and len(SOCKET.encode()) <= MAX_SOCKET_PATH:
    c.KernelManager.transport = "ipc"

# The RISE slideshow is a separate, smaller JupyterLab (4.3) application. By default it also loads
# every extension installed for the full JupyterLab (4.6): ipywidgets' manager and Notebook 7's
# lab-extension need shared modules that this smaller app lacks and fail with console errors. The
# slideshow needs none of them (no lesson uses widgets), so it loads no extra extensions.
c.RiseApp.labextensions_path = []

# RISE asks the server for `rise.css` and `<notebook name>.css` next to every notebook it shows;
# the working copy (tools/working_copy.py) has those files so that nothing fails to load. They are
# only for RISE: hide them in JupyterLab's file browser.
c.ContentsManager.hide_globs = [*ContentsManager().hide_globs, "*.css"]  # defaults + *.css
