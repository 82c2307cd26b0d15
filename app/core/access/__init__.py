"""Access: who the signed-in user is to Backstay (role, admin) and what each role may do."""
