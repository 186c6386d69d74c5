# The console's list order: drafts first, then the newest (invoices.models.CONSOLE_ORDERING), from an index.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0006_invoice_transition_trigger'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(models.Case(models.When(status='draft', then=models.Value(0)), default=models.Value(1), output_field=models.IntegerField()), models.OrderBy(models.F('issuing_date'), descending=True), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='invoice_console_order_idx'),
        ),
    ]
