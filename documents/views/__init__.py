"""The documents app's pages, by capability: files, service of documents (serving),
settlement agreements and public verification. Each view parses, authorises, calls
one service, responds."""
