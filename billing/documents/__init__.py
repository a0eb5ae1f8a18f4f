"""Statement documents as pure functions of plain dataclasses: data (the dataclasses), pdf and csv.

Nothing is imported here, so that importing the dataclasses does not load reportlab.
"""
