"""Small widgets shared by the main window and every workspace."""
