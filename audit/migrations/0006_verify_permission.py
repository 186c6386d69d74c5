from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_actor_label_index'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditlogentry',
            options={
                'ordering': ['-created_at'],
                'permissions': [
                    ('export_auditlogentry', 'Can export the audit log as CSV'),
                    ('verify_auditlogentry', "Can verify the audit log's hash chain (records an audit verification)"),
                ],
                'verbose_name': 'audit log entry',
                'verbose_name_plural': 'audit log entries',
            },
        ),
    ]
