-- Keyword lines saved before the parser refused control characters (pasted, or imported): each such character becomes
-- a space, as the matcher read it then, so the line parses and its reader keeps their digests. Tab, line breaks and
-- U+0085 are white space to the parser and stay.
update subscribers
set interests = regexp_replace(interests, '[\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]', ' ', 'g')
where interests ~ '[\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]';
