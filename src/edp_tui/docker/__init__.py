"""The Docker side: which engine (`endpoint`), its errors, the compose project's services (`services`, typed
`models`) and their container logs (`logs/`). No Textual here."""
