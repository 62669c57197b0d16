"""`python -m guide.replica` as deployments of earlier versions run it: the replica now lives in
`guide.serve.replica`, which this runs with the same arguments."""

from guide.serve.replica import main

if __name__ == "__main__":
    main()
