"""One module per deployed function: parse the request, call a service, respond."""
