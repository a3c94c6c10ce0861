"""The Lambda handlers, one folder per stage (each folder is a function's CodeUri; Lambda imports the handler module from it)."""
