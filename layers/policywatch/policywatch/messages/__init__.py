"""How a change is told to a person, shared by notification and the web pages.

Public: ``render`` (``alert_email``, ``digest_email``, ``alert_sms``, ``render`` of a template in
``templates/``; policy text defanged) and ``sms`` (GSM 03.38 segments: ``segments``, ``fit``).
"""
