# The lessons' kernels: `make setup` copies this file to .venv/etc/ipython/, which every kernel
# started from .venv reads (make run, make test, make lab).
c = get_config()  # noqa: F821 - provided by IPython when it loads this file
# Figures inline (what %matplotlib inline does), set up before the extension below, which gives a
# figure's text fallback its titles instead of "<Figure size 700x450 with 1 Axes>".
c.InteractiveShellApp.matplotlib = "inline"
c.InteractiveShellApp.extensions = ["gdlessons.jupyter"]
