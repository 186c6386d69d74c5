"""Closing a billing period from the console: finalizing thousands of drafts as one background job.

It sits at the billing-run layer, above invoices: a job only calls the one transition
(`invoices.transitions.finalization.finalize_invoices`) and records what each invoice came to.
"""
