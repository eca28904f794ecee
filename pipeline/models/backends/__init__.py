"""Generation backends behind pipeline.models; imported only when a model of that kind is used."""
