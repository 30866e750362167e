"""The Telnyx edge: everything that knows Telnyx's wire formats (signatures, webhook
envelopes, client_state, the Call Control HTTP API) and nothing about menus or the ORM."""
