from qsse_md.resources import forcefields_dir, systems_dir


def test_shipped_data_folders_are_found():
    assert (forcefields_dir() / "gaff2.xml").is_file()
    assert (forcefields_dir() / "index.json").is_file()
    assert (systems_dir() / "PDOA_EC.toml").is_file()
