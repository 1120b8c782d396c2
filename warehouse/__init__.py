"""The PostgreSQL reporting warehouse: where it is, its raw contract, how batches land."""
