"""A stand-in RPi package: only RPi.GPIO, which records pin levels (see GPIO.py)."""
