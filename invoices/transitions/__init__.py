"""The invoice transitions: one writer per change of an invoice (finalize, void, delete, regenerate,
refresh, fee edits, one-off creation, payment status, metadata, overdue flag).

Each runs in its own transaction (or the caller's), checks the from-state under a row lock and
writes its audit entry and webhook event beside the change. The rules they apply (totals,
numbering, the grace-period deadline, a draft's recomputation) are modules of `invoices/` itself.
"""
