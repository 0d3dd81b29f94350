-- When a weekly reader last turned daily: the weekly job sends the days since their last weekly digest up to then once,
-- and clears it.
alter table subscribers add column weekly_until timestamptz;
