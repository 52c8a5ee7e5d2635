"""Reviewing a change to dist/: the semantic diff (`aiops diff`) and the cost of node pools
(`aiops cost`). Both read trees of files only, through `aiops.tree`, never the environment model.
"""
