"""The NNTP suite: RFC 3977 (reader commands), RFC 4642 (STARTTLS), RFC 4643 (AUTHINFO), RFC 5536 (articles)."""
