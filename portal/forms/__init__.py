"""WTForms forms, one module per area; messages in plain Chinese through Flask-Babel."""
