"""3-D Secure for agent checkouts: the seller's SCA decision and the PSP's delegate authentication.

* :mod:`.sca` — seller side: does this card and amount need strong customer authentication
  (PSD2: an EEA-issued card above the 30 EUR low-value exemption), the ACP
  ``authentication_metadata`` to ask for it, and the check of an agent's
  ``authentication_result`` against an authentication this PSP itself performed.
* :mod:`.acs` — the simulated issuer ACS / directory server: deterministic outcomes.
* :mod:`.service` — the ACP delegate authentication API (create / authenticate / retrieve)
  over a delegated vault token, and the sandbox ACS challenge.
"""
