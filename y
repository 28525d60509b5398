A:1,fork EXEC:/x
