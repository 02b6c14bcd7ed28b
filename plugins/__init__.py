"""volumeview's built-in modality plugins (installed as ``volumeview_plugins``).

They use exactly the hooks a third-party plugin uses (see ``volumeview.hookspecs``).
``BUILTIN`` lists the modules the plugin manager registers, in order.
"""

BUILTIN = ["generic", "ct", "mr", "pt", "us", "xray", "rtdose"]
