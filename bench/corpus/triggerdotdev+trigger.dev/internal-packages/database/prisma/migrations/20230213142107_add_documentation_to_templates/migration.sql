-- AlterTable
ALTER TABLE "Template" ADD COLUMN     "markdownDocs" TEXT NOT NULL DEFAULT 'Documentation

This template does not have any documentation yet.';
