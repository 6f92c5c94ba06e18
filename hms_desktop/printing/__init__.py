"""PDF documents rendered locally with reportlab (labels, prescriptions, invoices ...).

No Qt here: renderers take plain data and return PDF bytes; preview and printer dialogs live
in the workspace that prints. Fonts are registered in one place, ``fonts.register_fonts``.
"""
