-- The functions of 2026-12-04-000020 stay (the ORDER BY changes no count).
SELECT 1;
