"""pytest plugin (fixtures arrive with the contract kit)."""
