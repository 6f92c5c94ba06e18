"""HMS desktop client (PySide6).

Layers: ``api`` speaks HTTP and never imports Qt; ``tasks`` runs that work off the GUI
thread; ``models`` are Qt item models; ``workspaces/<role>`` are the screens.
"""

__version__ = "0.1.0"
