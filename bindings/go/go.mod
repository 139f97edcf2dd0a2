module sysprims.dev/sysprims

go 1.24
