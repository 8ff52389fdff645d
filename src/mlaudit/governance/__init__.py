"""Model risk governance: identity and permissions, the model lifecycle and maker-checker
approvals, findings, risk tiering, the inventory and policy gates (issue 7).

Modules are imported where they are used; this package imports nothing eagerly.
"""
