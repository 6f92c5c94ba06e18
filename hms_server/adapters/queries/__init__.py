"""Read-side queries shaped for screens (bed board, due list, handover)."""
