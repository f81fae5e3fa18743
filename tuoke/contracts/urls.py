"""The contract pages: contracts with their payment plan, payments, invoices and attachments
(urls_contracts), finance's payment and invoice lists (urls_finance), receivables and renewals
(urls_reports) and the contract settings (urls_settings)."""

from .urls_contracts import urlpatterns as contract_patterns
from .urls_finance import urlpatterns as finance_patterns
from .urls_reports import urlpatterns as report_patterns
from .urls_settings import urlpatterns as settings_patterns

app_name = "contracts"
urlpatterns = [*contract_patterns, *finance_patterns, *report_patterns, *settings_patterns]
