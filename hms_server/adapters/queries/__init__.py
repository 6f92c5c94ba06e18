"""Read-side queries: one module per area returning plain rows shaped like the contract."""
