"""The knowledge base: articles customers read before (instead of) writing a ticket."""
