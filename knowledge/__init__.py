"""Knowledge store: Chroma with offline embeddings, ingestion and hybrid retrieval."""
