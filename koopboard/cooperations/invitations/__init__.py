"""Invitations into a cooperation with a role (``services``), the Projektleitung's form and
the invited person's pages (``views``, blueprint ``invitations``), and the link mail
(``mails``). The roles page of the cooperation lists the open ones."""
