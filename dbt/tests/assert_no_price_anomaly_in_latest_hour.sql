{{ config(severity='warn') }}
-- Feeds the price-anomaly alert: the coins flagged in the newest scored hour. A warning, not an error:
-- an anomaly is news about the market, not a defect of the data.

select coin_id, bucket_start, return_1h, robust_z_score, anomaly_direction
from {{ ref('fct_price_anomalies') }}
where is_anomaly
  and bucket_start = (select max(bucket_start) from {{ ref('fct_price_anomalies') }})
