"""Contract test kit for the unified Customers API (work in progress)."""
