"""How a change is told to a person: the alert and digest emails, the SMS text, shared by notification and the web pages."""
