select
    customer_id,
    full_name,
    lower(email) as email,
    country,
    signup_date
from {{ source('raw', 'customers') }}
