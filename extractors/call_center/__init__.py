"""Call center (ACD): one CSV export per local day, one row per phone call or chat session."""
