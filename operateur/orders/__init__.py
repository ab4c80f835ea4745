"""Orders (CTR-12): what a customer asks for — a new contract from an offer, or more lines,
options, numbers and equipment on a contract — reviewed by the operator before it changes any
contract."""
