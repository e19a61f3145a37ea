// placeholder until its author writes it
